// Azure Managed Redis (Microsoft.Cache/redisEnterprise) for API Management's external cache, which the semantic cache
// policies keep their vectors in (examples/semantic-cache-content-safety, deployed with the semanticCacheContentSafety
// parameter). RediSearch can only be chosen when the cache is created, and needs the Enterprise clustering policy and
// no eviction; API Management connects with an access key (it cannot use Entra ID with Redis), so access keys stay on.

@description('Name of the cache (global: part of its host name).')
param name string

@description('Region of the cache: API Management\'s.')
param location string

@description('Tags for the cache.')
param tags object

@description('Azure Managed Redis SKU; RediSearch needs a Balanced, Memory Optimized or Compute Optimized one.')
param skuName string = 'Balanced_B0'

resource redis 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    minimumTlsVersion: '1.2'
    // As the Azure OpenAI and Content Safety accounts: API Management reaches the cache over the public endpoint (TLS, key).
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: redis
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    clusteringPolicy: 'EnterpriseCluster'
    evictionPolicy: 'NoEviction'
    accessKeysAuthentication: 'Enabled'
    modules: [
      {
        name: 'RediSearch'
      }
    ]
  }
}

output name string = redis.name
output hostName string = redis.properties.hostName
output port int = database.properties.port
