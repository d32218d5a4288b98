proxy:
  proxyVersion: '^1\.{{minor}}.*'
listener:
  filterChain:
    filter:
      name: {{#if (semverCompare "<1.7.0-0" v)}}envoy.tcp_proxy{{else}}envoy.filters.network.tcp_proxy{{/if}}
