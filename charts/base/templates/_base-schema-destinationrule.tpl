description: What happens to traffic for a service once it has been routed there (load balancing, connection pool, outlier detection, TLS).
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  host:
    description: The service, by registry name, this rule is for.
    type: string
  trafficPolicy:
    description: Traffic policy for the whole host (kept as written).
    type: object
    x-kubernetes-preserve-unknown-fields: true
  subsets:
    description: Named groups of the service's endpoints, picked by label, each with an optional policy of its own.
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
      properties:
        name:
          type: string
        labels:
          type: object
          additionalProperties:
            type: string
        trafficPolicy:
          type: object
          x-kubernetes-preserve-unknown-fields: true
  exportTo:
    description: Namespaces the rule is visible to ("." for its own namespace, "*" for all).
    type: array
    items:
      type: string
  workloadSelector:
    {{> base-schema-match-labels}}
