// Flex Consumption plan and the Function App (Node 22). The app runs as the user-assigned identity and reaches
// every dependency with it: the app settings below carry endpoints and names only, never a key or a secret.
// Every setting the app reads is declared in shared/config.ts; test/unit/infra-drift.test.ts feeds these
// settings to loadConfig() so a setting the app requires in Azure cannot be forgotten here.

param name string
param planName string
param location string
param tags object = {}

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Name of the user-assigned identity: the Postgres role the app logs in as.')
param identityName string

param storageAccountName string

@description('Blob endpoint of the storage account, e.g. https://<account>.blob.core.windows.net/')
param blobEndpoint string

param deploymentContainerName string
param photosContainerName string
param applicationInsightsConnectionString string
param postgresHost string
param postgresDatabase string
@description('Tenant servers beyond the control one: [{name, host}] (POSTGRES_SERVERS); empty: none.')
param postgresServers array = []
param cosmosEndpoint string
param cosmosDatabase string
param serviceBusFullyQualifiedNamespace string
param syncQueueName string

@description('Deliveries before the queue dead-letters a message (QUEUE_MAX_DELIVERY_COUNT), the same as the maxDeliveryCount of the queue.')
@minValue(1)
param maxDeliveryCount int
param authIssuer string
param authAudience string
param authJwksUrl string

@description('The managers\' console\'s Entra ID sign-in (docs/console.md): SPA client id, authority, API scope; empty: none.')
param consoleClientId string = ''
param consoleAuthority string = ''
param consoleApiScope string = ''

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

@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on instances per function group. Each holds Postgres connections: keep it within the budget (docs/deploy.md).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

// Concurrent requests per instance of the HTTP group (the Flex default for 2048 MB is 16): one term of the
// Postgres connection budget, with host.json's serviceBus maxConcurrentCalls (docs/deploy.md).
@description('HTTP requests one instance serves at once.')
@minValue(1)
param httpPerInstanceConcurrency int = 8

@description('Postgres port of the app: 6432 behind the server\'s PgBouncer, else 5432. Migrations always use 5432.')
@allowed([
  '5432'
  '6432'
])
param postgresPort string = '5432'

@description('Private network: subnet delegated to Microsoft.App/environments for outbound traffic. Empty: none.')
param virtualNetworkSubnetId string = ''

@description('Browser origins allowed to call the API (web clients). Native clients need none.')
param corsAllowedOrigins array = []

var siteTags = union(tags, {
  'azd-service-name': 'api'
})

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: siteTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      cors: {
        allowedOrigins: corsAllowedOrigins
      }
      appSettings: [
        // Functions host storage, through the identity (no AzureWebJobsStorage connection string).
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageAccountName
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        // Telemetry: Entra ID authenticated ingestion (local auth is off on the component).
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsightsConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        {
          name: 'LOG_LEVEL'
          value: logLevel
        }
        // PostgreSQL: Entra ID login as the identity's role; the password is a fresh token.
        {
          name: 'POSTGRES_HOST'
          value: postgresHost
        }
        {
          name: 'POSTGRES_PORT'
          value: postgresPort
        }
        {
          name: 'POSTGRES_DATABASE'
          value: postgresDatabase
        }
        {
          name: 'POSTGRES_USER'
          value: identityName
        }
        // More tenant servers, same login and ports: JSON [{name, host}] (docs/deploy.md "Tenant servers").
        {
          name: 'POSTGRES_SERVERS'
          value: string(postgresServers)
        }
        // Cosmos DB.
        {
          name: 'CosmosConnection__accountEndpoint'
          value: cosmosEndpoint
        }
        {
          name: 'CosmosConnection__credential'
          value: 'managedidentity'
        }
        {
          name: 'CosmosConnection__clientId'
          value: identityClientId
        }
        {
          name: 'COSMOS_DATABASE'
          value: cosmosDatabase
        }
        // Blob Storage: photos.
        {
          name: 'StorageConnection__blobServiceUri'
          value: blobEndpoint
        }
        {
          name: 'StorageConnection__credential'
          value: 'managedidentity'
        }
        {
          name: 'StorageConnection__clientId'
          value: identityClientId
        }
        {
          name: 'PHOTOS_CONTAINER'
          value: photosContainerName
        }
        // Service Bus: the push route sends, the processor function is triggered.
        {
          name: 'QUEUE_DRIVER'
          value: 'servicebus'
        }
        {
          name: 'ServiceBusConnection__fullyQualifiedNamespace'
          value: serviceBusFullyQualifiedNamespace
        }
        {
          name: 'ServiceBusConnection__credential'
          value: 'managedidentity'
        }
        {
          name: 'ServiceBusConnection__clientId'
          value: identityClientId
        }
        {
          name: 'SYNC_QUEUE_NAME'
          value: syncQueueName
        }
        // The processor marks a chunk's events FAILED on the last delivery: it must know the queue's count.
        {
          name: 'QUEUE_MAX_DELIVERY_COUNT'
          value: string(maxDeliveryCount)
        }
        // Auth: tokens of the tenant's OIDC issuer (Microsoft Entra ID), verified through its JWKS.
        {
          name: 'AUTH_ISSUER'
          value: authIssuer
        }
        {
          name: 'AUTH_AUDIENCE'
          value: authAudience
        }
        {
          name: 'AUTH_JWKS_URL'
          value: authJwksUrl
        }
        // The managers' console (MSAL in the browser): served to the page through /api/console/config.json.
        {
          name: 'CONSOLE_CLIENT_ID'
          value: consoleClientId
        }
        {
          name: 'CONSOLE_AUTHORITY'
          value: consoleAuthority
        }
        {
          name: 'CONSOLE_API_SCOPE'
          value: consoleApiScope
        }
        // DefaultAzureCredential in the app code picks the user-assigned identity by this client id.
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
      ]
    }
  }
}

// No FTP or basic-auth (Kudu) publishing credentials: azd deploys with an Entra ID token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output id string = site.id
output uri string = 'https://${site.properties.defaultHostName}'
