// Cosmos DB (serverless, NoSQL API): idempotency keys, device status and rate-limit counters. Keys are disabled;
// the app identity gets the built-in Data Contributor data-plane role through sqlRoleAssignments.

param accountName string
param location string
param tags object = {}

@description('Database name (COSMOS_DATABASE).')
param databaseName string

@description('Principal id of the app identity (Cosmos DB Built-in Data Contributor).')
param appPrincipalId string

@description('Optional principal id of an operator (user) who runs the ops CLIs from a workstation.')
param operatorPrincipalId string = ''

// Must equal COSMOS_CONTAINERS in shared/adapters/cosmos/containers.ts: name, partition key path and default TTL
// in seconds (null: items never expire). test/unit/infra-drift.test.ts keeps the two in step.
var containers = [
  {
    name: 'idempotency'
    partitionKey: '/pk'
    defaultTtl: 86400
  }
  {
    name: 'devices'
    partitionKey: '/tenantId'
    defaultTtl: null
  }
  {
    name: 'rate-limits'
    partitionKey: '/pk'
    defaultTtl: 600
  }
]

// Cosmos DB Built-in Data Contributor (a data-plane SQL role definition, not an Azure RBAC role).
var dataContributorRoleDefinitionId = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.name
    properties: {
      resource: union(
        {
          id: container.name
          partitionKey: {
            paths: [
              container.partitionKey
            ]
            kind: 'Hash'
            version: 2
          }
        },
        container.defaultTtl == null
          ? {}
          : {
              defaultTtl: container.defaultTtl
            }
      )
    }
  }
]

resource appDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, appPrincipalId, dataContributorRoleDefinitionId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleDefinitionId}'
    principalId: appPrincipalId
    scope: account.id
  }
}

// SQL role assignments on one account must be made one at a time, hence the dependsOn.
resource operatorDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = if (!empty(operatorPrincipalId)) {
  parent: account
  name: guid(account.id, operatorPrincipalId, dataContributorRoleDefinitionId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleDefinitionId}'
    principalId: operatorPrincipalId
    scope: account.id
  }
  dependsOn: [
    appDataContributor
  ]
}

output accountName string = account.name
output accountId string = account.id
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
