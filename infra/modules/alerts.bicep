// Metric alerts. docs/deploy.md ("Alerts") says what each one means and what to do about it.
// Notifications go to an email action group when alertEmail is set; otherwise the alerts still fire and show
// in Azure Monitor, with no notification.

param namePrefix string
param location string
param tags object = {}

@description('Email address notified when an alert fires. Empty: no action group.')
param alertEmail string = ''

param serviceBusNamespaceId string
param queueName string

@description('maxDeliveryCount of the queue, quoted in the alert description.')
param maxDeliveryCount int = 10

param applicationInsightsId string
param cosmosAccountId string
param postgresServerId string

@description('Failed function executions (thrown errors) in 15 minutes that raise an alert.')
param failedRequestsThreshold int = 5

@description('HTTP responses with status 5xx in 15 minutes that raise an alert.')
param http5xxThreshold int = 5

@description('Throttled (429) Cosmos DB requests in 15 minutes that raise an alert.')
param cosmosThrottledThreshold int = 10

@description('Average CPU percent over 15 minutes that raises an alert.')
param postgresCpuPercentThreshold int = 80

@description('Storage used, in percent, that raises an alert.')
param postgresStoragePercentThreshold int = 85

@description('Active connections that raise an alert: main.bicep passes 80% of what the SKU leaves the app.')
param postgresConnectionsThreshold int = 28

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: '${namePrefix}-ops'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'fieldsync'
    enabled: true
    emailReceivers: [
      {
        name: 'ops-email'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmail)
  ? []
  : [
      {
        actionGroupId: actionGroup.id
      }
    ]

resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Messages on the ${queueName} queue were dead-lettered: the processor failed on them ${maxDeliveryCount} times (maxDeliveryCount) or they expired. Their events show as FAILED. Find the cause in Application Insights, fix it, then replay with `npm run dlq -- replay` (docs/deploy.md).'
    severity: 2
    enabled: true
    scopes: [
      serviceBusNamespaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeadLetteredMessages'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                queueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: actions
  }
}

// A function that throws is a failed request in Application Insights. An HTTP route that catches an error and
// answers 5xx itself (503 while a dependency is down) is not: the log alert below counts those by status code.
resource appFailures 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-app-failures'
  location: 'global'
  tags: tags
  properties: {
    description: 'Function executions failed (an HTTP route or the queue processor threw) more than ${failedRequestsThreshold} times in 15 minutes. Open Application Insights > Failures to see which operation, exception and dependency.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'FailedRequests'
          metricNamespace: 'microsoft.insights/components'
          metricName: 'requests/failed'
          operator: 'GreaterThan'
          threshold: failedRequestsThreshold
          timeAggregation: 'Count'
        }
      ]
    }
    actions: actions
  }
}

resource http5xx 'Microsoft.Insights/scheduledQueryRules@2021-08-01' = {
  name: '${namePrefix}-http-5xx'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${namePrefix}-http-5xx'
    description: 'The API answered 5xx more than ${http5xxThreshold} times in 15 minutes. 503 means a dependency (Postgres, Cosmos DB, Service Bus, Storage) was unreachable; 500 is a bug. Client mistakes are 4xx and never count. Query `requests | where toint(resultCode) >= 500` in Application Insights.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: 'requests | where toint(resultCode) >= 500'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: http5xxThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: empty(alertEmail) ? [] : [
        actionGroup.id
      ]
    }
  }
}

resource cosmosThrottled 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-cosmos-throttled'
  location: 'global'
  tags: tags
  properties: {
    description: 'Cosmos DB answered 429 (request rate too large) more than ${cosmosThrottledThreshold} times in 15 minutes. The SDK retries, but pushes and rate-limit checks slow down or fail with 503. See docs/deploy.md: find the hot container and partition.'
    severity: 3
    enabled: true
    scopes: [
      cosmosAccountId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'Throttled'
          metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
          metricName: 'TotalRequests'
          dimensions: [
            {
              name: 'StatusCode'
              operator: 'Include'
              values: [
                '429'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: cosmosThrottledThreshold
          timeAggregation: 'Count'
        }
      ]
    }
    actions: actions
  }
}

resource postgresCpu 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-postgres-cpu'
  location: 'global'
  tags: tags
  properties: {
    description: 'PostgreSQL CPU averaged above ${postgresCpuPercentThreshold}% for 15 minutes. A Burstable server that runs out of CPU credits slows every tenant: the queue backs up and pushes wait. Check slow queries, then scale the SKU (docs/deploy.md).'
    severity: 2
    enabled: true
    scopes: [
      postgresServerId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'CpuPercent'
          metricNamespace: 'Microsoft.DBforPostgreSQL/flexibleServers'
          metricName: 'cpu_percent'
          operator: 'GreaterThan'
          threshold: postgresCpuPercentThreshold
          timeAggregation: 'Average'
        }
      ]
    }
    actions: actions
  }
}

resource postgresStorage 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-postgres-storage'
  location: 'global'
  tags: tags
  properties: {
    description: 'PostgreSQL storage is more than ${postgresStoragePercentThreshold}% used. Storage auto-grow is on, but it grows in steps and costs more; a full server goes read-only and every push fails. Look for tenant databases that grow fast and raise storageSizeGB (docs/deploy.md).'
    severity: 2
    enabled: true
    scopes: [
      postgresServerId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'StoragePercent'
          metricNamespace: 'Microsoft.DBforPostgreSQL/flexibleServers'
          metricName: 'storage_percent'
          operator: 'GreaterThan'
          threshold: postgresStoragePercentThreshold
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: actions
  }
}

resource postgresConnections 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-postgres-connections'
  location: 'global'
  tags: tags
  properties: {
    description: 'PostgreSQL has more than ${postgresConnectionsThreshold} active connections (80% of the SKU\'s max_connections less the 15 Azure keeps). At the limit new connections are refused and requests answer 503. The budget is instances x (CONTROL_POOL_MAX + max(TENANT_CONNECTIONS_MAX, concurrency)): lower functionMaximumInstanceCount, TENANT_CONNECTIONS_MAX or TENANT_POOL_MAX, enable PgBouncer, or scale the SKU (docs/deploy.md "Postgres connection budget").'
    severity: 3
    enabled: true
    scopes: [
      postgresServerId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'ActiveConnections'
          metricNamespace: 'Microsoft.DBforPostgreSQL/flexibleServers'
          metricName: 'active_connections'
          operator: 'GreaterThan'
          threshold: postgresConnectionsThreshold
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: actions
  }
}
