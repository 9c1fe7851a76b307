// Log Analytics and Application Insights: API Management's logger sends request telemetry and the policy's token
// metrics (azure-openai-emit-token-metric) here.

@description('Name of the Log Analytics workspace.')
param workspaceName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Region of both.')
param location string

@description('Tags for both.')
param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Token metrics carry dimensions (API, operation, subscription, deployment): without this setting Application
    // Insights drops them at ingestion. The property is missing from the type definitions of every
    // Microsoft.Insights/components API version Bicep knows (a known gap), so the compiler warns BCP037.
    #disable-next-line BCP037
    CustomMetricsOptedInType: 'WithDimensions'
  }
}

output applicationInsightsName string = applicationInsights.name
output workspaceName string = workspace.name
