// fieldsync: everything the app needs in one resource group, deployed by `azd up` (docs/deploy.md).
// Every service is reached with the Function App's user-assigned managed identity: no keys, no connection
// strings with secrets, no passwords.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('azd environment name (AZURE_ENV_NAME); seeds the unique resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of every resource; it must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('OIDC issuer of user tokens (AUTH_ISSUER), e.g. https://login.microsoftonline.com/<tenant id>/v2.0')
param tenantAuthIssuer string

@description('Audience the API accepts in tokens (AUTH_AUDIENCE), e.g. api://fieldsync or the app registration client id.')
param tenantAuthAudience string

@description('JWKS URL of the issuer (AUTH_JWKS_URL), e.g. https://login.microsoftonline.com/<tenant id>/discovery/v2.0/keys')
param tenantAuthJwksUrl string

@description('Object id of the Entra group (or user) that administers PostgreSQL.')
param postgresAdminGroupObjectId string

@description('Display name of that group (or the user principal name); it is the Postgres user name admins log in with.')
param postgresAdminGroupName string

@allowed([
  'Group'
  'User'
  'ServicePrincipal'
])
param postgresAdminPrincipalType string = 'Group'

param postgresSkuName string = 'Standard_B1ms'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'Burstable'

@minValue(32)
param postgresStorageSizeGB int = 32

@description('Optional public IP of an operator workstation allowed through the Postgres firewall.')
param operatorIpAddress string = ''

@description('Optional principal id of the operator (azd passes the signed-in user): dead-letter replay rights.')
param operatorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

@description('Optional email address notified by the alerts.')
param alertEmail string = ''

@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Browser origins of web clients (API CORS and photo uploads). Native clients need none.')
param corsAllowedOrigins array = []

@allowed([
  'trace'
  'debug'
  'info'
  'warn'
  'error'
  'fatal'
  'silent'
])
param logLevel string = 'info'

// Names the app also knows: shared/config.ts defaults and shared/adapters/cosmos/containers.ts.
// test/unit/infra-drift.test.ts fails when they drift apart.
var syncQueueName = 'sync-events'
var photosContainerName = 'photos'
var deploymentContainerName = 'deployment'
var cosmosDatabaseName = 'fieldsync'
var postgresDatabaseName = 'fieldsync'

// Deliveries of a queue message before it is dead-lettered (its events become FAILED).
var maxDeliveryCount = 10

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
  app: 'fieldsync'
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-fieldsync-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    photosContainerName: photosContainerName
    corsAllowedOrigins: corsAllowedOrigins
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    name: 'sb-${resourceToken}'
    location: location
    tags: tags
    queueName: syncQueueName
    maxDeliveryCount: maxDeliveryCount
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    accountName: 'cosmos-${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    appPrincipalId: identity.outputs.principalId
    operatorPrincipalId: operatorPrincipalId
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    serverName: 'psql-${resourceToken}'
    location: location
    tags: tags
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    databaseName: postgresDatabaseName
    adminObjectId: postgresAdminGroupObjectId
    adminName: postgresAdminGroupName
    adminPrincipalType: postgresAdminPrincipalType
    operatorIpAddress: operatorIpAddress
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    appPrincipalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    photosContainerName: storage.outputs.photosContainerName
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    queueName: serviceBus.outputs.queueName
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    identityName: identity.outputs.name
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    photosContainerName: storage.outputs.photosContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    postgresHost: postgres.outputs.hostName
    postgresDatabase: postgres.outputs.databaseName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmos.outputs.databaseName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    syncQueueName: serviceBus.outputs.queueName
    maxDeliveryCount: maxDeliveryCount
    authIssuer: tenantAuthIssuer
    authAudience: tenantAuthAudience
    authJwksUrl: tenantAuthJwksUrl
    logLevel: logLevel
    maximumInstanceCount: functionMaximumInstanceCount
    corsAllowedOrigins: corsAllowedOrigins
  }
  // The host reads its deployment package and storage with the identity as soon as it starts.
  dependsOn: [
    roles
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    namePrefix: 'fieldsync-${resourceToken}'
    location: location
    tags: tags
    alertEmail: alertEmail
    serviceBusNamespaceId: serviceBus.outputs.namespaceId
    queueName: serviceBus.outputs.queueName
    maxDeliveryCount: maxDeliveryCount
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    cosmosAccountId: cosmos.outputs.accountId
    postgresServerId: postgres.outputs.serverId
  }
}

// Outputs land in the azd environment (`azd env get-values`); docs/deploy.md maps them to the app's settings
// for the ops CLIs. None of them is a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = functionApp.outputs.uri
output APP_IDENTITY_NAME string = identity.outputs.name
output APP_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output POSTGRES_HOST string = postgres.outputs.hostName
output POSTGRES_DATABASE string = postgres.outputs.databaseName
output POSTGRES_ADMIN_NAME string = postgresAdminGroupName
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE string = cosmos.outputs.databaseName
output STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output PHOTOS_CONTAINER string = storage.outputs.photosContainerName
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output SYNC_QUEUE_NAME string = serviceBus.outputs.queueName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
