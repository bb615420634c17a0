// Storage account: the Functions host's own storage (AzureWebJobsStorage), the Flex Consumption deployment
// package container, and the photos container that devices upload to with user delegation SAS URLs.
// Shared keys are off: every caller uses Entra ID (the app identity) or a user delegation SAS.

param name string
param location string
param tags object = {}

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Blob container for photos (PHOTOS_CONTAINER).')
param photosContainerName string

@description('Days after which a photo blob still tagged state=awaiting (uploaded, never attached) is deleted.')
@minValue(1)
param unattachedPhotoRetentionDays int = 2

@description('Browser origins allowed to PUT photos with a SAS URL (web clients). Native clients need none.')
param corsAllowedOrigins array = []

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Devices upload photos straight to Blob Storage from anywhere, so the endpoint stays public;
    // every request still needs Entra ID or a user delegation SAS.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    cors: {
      corsRules: empty(corsAllowedOrigins)
        ? []
        : [
            {
              allowedOrigins: corsAllowedOrigins
              allowedMethods: [
                'PUT'
                'GET'
                'HEAD'
                'OPTIONS'
              ]
              allowedHeaders: [
                '*'
              ]
              exposedHeaders: [
                '*'
              ]
              maxAgeInSeconds: 3600
            }
          ]
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource photosContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: photosContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Photos whose upload URL was handed out and which were uploaded but never attached by a PHOTO_ATTACHED event.
// Lifecycle filters can only include blobs (tag equality), never exclude them, and an upload SAS cannot set
// tags (no `t` permission: devices get create+write only). So the app does all the tagging, server-side:
// - the processor tags a verified photo `state=attached` when it attaches it (and leases it: no more writes);
// - the photo sweep (sweepUnattachedPhotos in shared/usecases/photos.ts, run from a timer) tags the blob of
//   every photo still AWAITING_UPLOAD a day after its last upload URL `state=awaiting`, never a leased one.
// This rule deletes blobs tagged state=awaiting last modified more than N days ago. (Setting tags does not
// change a blob's last-modified time, so the age counts from the upload.) An upload the sweep has not
// reached yet carries no tag and is kept. See docs/photos.md.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-unattached-photos'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${photosContainerName}/'
              ]
              blobIndexMatch: [
                {
                  name: 'state'
                  op: '=='
                  value: 'awaiting'
                }
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: unattachedPhotoRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    photosContainer
  ]
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
output photosContainerName string = photosContainer.name
