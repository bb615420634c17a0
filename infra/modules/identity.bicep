// The Function App's user-assigned managed identity. Every data-plane permission of the app is granted to it
// (roles.bicep, cosmos.bicep), and its name is also the app's Postgres role name (see docs/deploy.md).

@description('Name of the identity; also the Postgres role the app logs in as (POSTGRES_USER).')
param name string

param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
