// PostgreSQL Flexible Server: the control database (tenant registry) and one database per tenant, all on this
// server. Password authentication is off; the app logs in with an Entra ID token for its managed identity.
// Bicep cannot run SQL: the app identity's Postgres role is created once by the Entra admin (docs/deploy.md).

param serverName string
param location string
param tags object = {}

@allowed([
  '16'
])
param serverVersion string = '16'

@description('Compute SKU, e.g. Standard_B1ms (Burstable), Standard_D2ds_v5 (GeneralPurpose).')
param skuName string = 'Standard_B1ms'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string = 'Burstable'

@minValue(32)
param storageSizeGB int = 32

@description('The control database the app opens first (POSTGRES_DATABASE).')
param databaseName string

@description('Object id of the Entra principal (preferably a group) that administers the server.')
param adminObjectId string

@description('Display name of that principal; members of a group log in with the group name as user name.')
param adminName string

@allowed([
  'Group'
  'User'
  'ServicePrincipal'
])
param adminPrincipalType string = 'Group'

@description('Optional public IP address of an operator workstation (tenant provisioning, one-time role SQL).')
param operatorIpAddress string = ''

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: serverName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: serverVersion
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// A flexible server accepts one control-plane operation at a time: the children below are chained with dependsOn.

// 0.0.0.0 - 0.0.0.0 is Azure's notation for "any Azure service", which is how the Flex Consumption app reaches
// the server without a virtual network. Access still requires an Entra ID token for a role on the server.
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource entraAdmin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: server
  name: adminObjectId
  properties: {
    principalType: adminPrincipalType
    principalName: adminName
    tenantId: tenant().tenantId
  }
  dependsOn: [
    allowAzureServices
  ]
}

resource controlDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    entraAdmin
  ]
}

resource allowOperator 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = if (!empty(operatorIpAddress)) {
  parent: server
  name: 'AllowOperatorWorkstation'
  properties: {
    startIpAddress: operatorIpAddress
    endIpAddress: operatorIpAddress
  }
  dependsOn: [
    controlDatabase
  ]
}

output serverName string = server.name
output serverId string = server.id
output hostName string = server.properties.fullyQualifiedDomainName
output databaseName string = controlDatabase.name
