// Service Bus: the queue between the push route and the processor. Local (SAS key) auth is disabled; the app
// identity sends and receives with Entra ID (roles.bicep). Pushed events travel packed in chunk messages; the
// MessageId of a chunk is its idempotency key inside the duplicate detection window set here.

param name string
param location string
param tags object = {}

@description('Queue name (SYNC_QUEUE_NAME).')
param queueName string

@description('Deliveries before a message moves to the dead-letter queue.')
@minValue(1)
param maxDeliveryCount int = 10

@allowed([
  1024
  2048
  3072
  4096
  5120
])
param queueMaxSizeInMegabytes int = 1024

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    lockDuration: 'PT1M'
    maxSizeInMegabytes: queueMaxSizeInMegabytes
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
    requiresSession: false
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    maxDeliveryCount: maxDeliveryCount
    enableBatchedOperations: true
    enablePartitioning: false
  }
}

output namespaceName string = namespace.name
output namespaceId string = namespace.id
// serviceBusEndpoint looks like https://<name>.servicebus.windows.net:443/ ; the SDK wants the bare host name.
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output queueName string = queue.name
