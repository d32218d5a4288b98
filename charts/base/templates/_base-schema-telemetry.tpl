description: Tracing, metrics and access logging settings for the workloads it selects.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  selector:
    {{> base-schema-match-labels}}
  tracing:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  metrics:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  accessLogging:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
