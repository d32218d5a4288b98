proxy:
  proxyVersion: '^1\.{{minor}}.*'
listener:
  filterChain:
    filter:
      name: {{#if (semverCompare "<1.7.0-0" v)}}envoy.http_connection_manager{{else}}envoy.filters.network.http_connection_manager{{/if}}
      subFilter:
        name: {{#if (semverCompare "<1.7.0-0" v)}}envoy.router{{else}}envoy.filters.http.router{{/if}}
