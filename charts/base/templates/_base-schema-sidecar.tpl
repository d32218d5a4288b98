description: Limits and tunes the inbound and outbound listeners of the sidecars it selects.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  workloadSelector:
    {{> base-schema-workload-labels}}
  ingress:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  egress:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  outboundTrafficPolicy:
    type: object
    x-kubernetes-preserve-unknown-fields: true
