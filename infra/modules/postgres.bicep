// PostgreSQL Flexible Server: the control database (tenant registry) and tenant databases, or (databaseName
// empty) a further server holding tenant databases only (main.bicep postgresExtraServerCount). Password authentication is off; the app logs in with an Entra ID token for its managed identity.
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

@description('The control database the app opens first (POSTGRES_DATABASE); empty on a tenant-only server.')
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

@description('Enable the built-in PgBouncer (port 6432) in transaction mode. General Purpose / Memory Optimized only.')
param pgBouncerEnabled bool = false

@description('pgbouncer.default_pool_size: server connections per user/database pair.')
@minValue(1)
param pgBouncerPoolSize int = 10

@description('Private access: subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers (creation only). Empty: public access.')
param delegatedSubnetId string = ''

@description('Private access: private DNS zone linked to the virtual network.')
param privateDnsZoneId string = ''

@description('Public access: the 0.0.0.0 rule that lets any Azure service (the Flex Consumption app) through.')
param allowAzureServices bool = true

var privateAccess = !empty(delegatedSubnetId)

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
    // Private access (VNet integration): no public endpoint, no firewall rules; the Function App reaches the
    // server through its own virtual network integration (main.bicep functionAppSubnetId).
    network: privateAccess
      ? {
          delegatedSubnetResourceId: delegatedSubnetId
          privateDnsZoneArmResourceId: privateDnsZoneId
          publicNetworkAccess: 'Disabled'
        }
      : {
          publicNetworkAccess: 'Enabled'
        }
  }
}

// A flexible server accepts one control-plane operation at a time: the children below are chained with dependsOn.

// 0.0.0.0 - 0.0.0.0 is Azure's notation for "any Azure service" (any tenant's, not only ours), which is how the
// Flex Consumption app reaches the server without a virtual network. Access still requires an Entra ID token
// for a role on the server (password login is off). docs/deploy.md "Network" offers the private option.
resource allowAzureServicesRule 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = if (!privateAccess && allowAzureServices) {
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
    allowAzureServicesRule
  ]
}

resource controlDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = if (!empty(databaseName)) {
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

resource allowOperator 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = if (!privateAccess && !empty(operatorIpAddress)) {
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

// PgBouncer, transaction mode: a server connection per transaction, so instances x pool sizes no longer count
// against max_connections (docs/deploy.md). Migrations and DDL still use 5432 (session advisory lock).
resource pgBouncer 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (pgBouncerEnabled) {
  parent: server
  name: 'pgbouncer.enabled'
  properties: {
    value: 'true'
    source: 'user-override'
  }
  dependsOn: [
    allowOperator
  ]
}

resource pgBouncerPoolMode 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (pgBouncerEnabled) {
  parent: server
  name: 'pgbouncer.pool_mode'
  properties: {
    value: 'transaction'
    source: 'user-override'
  }
  dependsOn: [
    pgBouncer
  ]
}

resource pgBouncerPoolSizeSetting 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (pgBouncerEnabled) {
  parent: server
  name: 'pgbouncer.default_pool_size'
  properties: {
    value: string(pgBouncerPoolSize)
    source: 'user-override'
  }
  dependsOn: [
    pgBouncerPoolMode
  ]
}

output serverName string = server.name
output serverId string = server.id
output hostName string = server.properties.fullyQualifiedDomainName
output databaseName string = databaseName
