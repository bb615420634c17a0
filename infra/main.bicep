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

// The managers' console's sign-in (docs/console.md): an Entra ID single-page-application registration whose
// redirect URI is https://<function app>/api/console/. All three, or none (then the console cannot sign in).
@description('Client id of the console\'s SPA app registration (CONSOLE_CLIENT_ID); empty: no console sign-in.')
param consoleClientId string = ''

@description('Authority the console signs in with (CONSOLE_AUTHORITY), e.g. https://login.microsoftonline.com/<tenant id>')
param consoleAuthority string = ''

@description('API scope the console asks a token for (CONSOLE_API_SCOPE), e.g. api://fieldsync/access_as_user')
param consoleApiScope string = ''

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

// Standard_B2s, not B1ms: B1ms allows 35 app connections, fewer than one instance per function group needs
// (docs/deploy.md "Postgres connection budget").
@description('Compute SKU of the Postgres server. Its max_connections bounds functionMaximumInstanceCount.')
param postgresSkuName string = 'Standard_B2s'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'Burstable'

@minValue(32)
param postgresStorageSizeGB int = 32

@description('Put the app behind the server\'s built-in PgBouncer (port 6432, transaction pooling). General Purpose and Memory Optimized tiers only: ignored on Burstable, where Azure has no PgBouncer.')
param postgresPgBouncer bool = true

@description('Server connections PgBouncer keeps per user/database pair (pgbouncer.default_pool_size).')
@minValue(1)
param postgresPgBouncerPoolSize int = 10

@description('Private network: resource id of a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers. Set at creation only; disables public access. Empty: public access with firewall rules.')
param postgresDelegatedSubnetId string = ''

@description('Private network: resource id of the private DNS zone (*.private.postgres.database.azure.com) linked to the virtual network.')
param postgresPrivateDnsZoneId string = ''

@description('Private network: resource id of a subnet delegated to Microsoft.App/environments for the Function App\'s outbound traffic. Required with postgresDelegatedSubnetId.')
param functionAppSubnetId string = ''

@description('Public access only: let any Azure service through the Postgres firewall (0.0.0.0 rule). The Flex Consumption app has no fixed outbound IP without a virtual network.')
param postgresAllowAzureServices bool = true

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

// Per function group (the HTTP functions, each Service Bus trigger, each timer); Microsoft's docs give 1 as the
// lowest value (learn.microsoft.com/azure/azure-functions/event-driven-scaling#limit-scale-out; older pages
// said 40). The connection budget below, not the platform, is what bounds it (docs/deploy.md).
@description('More PostgreSQL servers for tenant databases (0: every tenant on the control server). Each is made like the control server (same SKU, network, Entra admin) and named pg2, pg3, … in POSTGRES_SERVERS; new tenants go to the server holding fewest (docs/deploy.md "Tenant servers").')
@minValue(0)
@maxValue(8)
param postgresExtraServerCount int = 0

@description('Upper bound on instances per function group; keep within the Postgres connection budget.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 10

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

// Azure has no PgBouncer on the Burstable tier.
var postgresUsesPgBouncer = postgresPgBouncer && postgresSkuTier != 'Burstable'

// max_connections by SKU (learn.microsoft.com/azure/postgresql/flexible-server/concepts-limits); Azure keeps 15
// for itself. docs/deploy.md "Postgres connection budget" does the arithmetic against these.
var postgresMaxConnections = {
  Standard_B1ms: 50
  Standard_B2s: 429
  Standard_B2ms: 859
  Standard_B4ms: 1718
  Standard_B8ms: 3437
  Standard_D2ds_v5: 859
  Standard_D4ds_v5: 1718
  Standard_D8ds_v5: 3437
  Standard_E2ds_v5: 1718
  Standard_E4ds_v5: 3437
}
var postgresUserConnections = (contains(postgresMaxConnections, postgresSkuName)
  ? postgresMaxConnections[postgresSkuName]
  : 50) - 15

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
    pgBouncerEnabled: postgresUsesPgBouncer
    pgBouncerPoolSize: postgresPgBouncerPoolSize
    delegatedSubnetId: postgresDelegatedSubnetId
    privateDnsZoneId: postgresPrivateDnsZoneId
    allowAzureServices: postgresAllowAzureServices
  }
}

// Tenant servers beyond the control one: the same module without a control database (tenant databases are
// made by `npm run tenant -- create`). Their names in the app's server list are pg2, pg3, ….
module postgresExtra 'modules/postgres.bicep' = [
  for i in range(0, postgresExtraServerCount): {
    name: 'postgres-${i + 2}'
    params: {
      serverName: 'psql-${resourceToken}-${i + 2}'
      location: location
      tags: tags
      skuName: postgresSkuName
      skuTier: postgresSkuTier
      storageSizeGB: postgresStorageSizeGB
      databaseName: ''
      adminObjectId: postgresAdminGroupObjectId
      adminName: postgresAdminGroupName
      adminPrincipalType: postgresAdminPrincipalType
      operatorIpAddress: operatorIpAddress
      pgBouncerEnabled: postgresUsesPgBouncer
      pgBouncerPoolSize: postgresPgBouncerPoolSize
      delegatedSubnetId: postgresDelegatedSubnetId
      privateDnsZoneId: postgresPrivateDnsZoneId
      allowAzureServices: postgresAllowAzureServices
    }
  }
]

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
    postgresServers: [
      for i in range(0, postgresExtraServerCount): {
        name: 'pg${i + 2}'
        host: postgresExtra[i].outputs.hostName
      }
    ]
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmos.outputs.databaseName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    syncQueueName: serviceBus.outputs.queueName
    maxDeliveryCount: maxDeliveryCount
    authIssuer: tenantAuthIssuer
    authAudience: tenantAuthAudience
    authJwksUrl: tenantAuthJwksUrl
    consoleClientId: consoleClientId
    consoleAuthority: consoleAuthority
    consoleApiScope: consoleApiScope
    logLevel: logLevel
    maximumInstanceCount: functionMaximumInstanceCount
    postgresPort: postgresUsesPgBouncer ? '6432' : '5432'
    virtualNetworkSubnetId: functionAppSubnetId
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
    // 80% of what the SKU leaves the app: the alert fires before connections are refused.
    postgresConnectionsThreshold: (postgresUserConnections * 80) / 100
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
// The tenant servers beyond the control one, as the app's POSTGRES_SERVERS wants them (azd keeps it as JSON).
output POSTGRES_SERVERS array = [
  for i in range(0, postgresExtraServerCount): {
    name: 'pg${i + 2}'
    host: postgresExtra[i].outputs.hostName
  }
]
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
