description: Patches applied to the Envoy configuration Istio generates.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  workloadSelector:
    {{> base-schema-workload-labels}}
  configPatches:
    description: Patches, each with the part of the configuration it applies to and a match condition.
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
      properties:
        applyTo:
          type: string
        match:
          type: object
          x-kubernetes-preserve-unknown-fields: true
        patch:
          type: object
          x-kubernetes-preserve-unknown-fields: true
  priority:
    description: Order in which filters are applied within a context (lower first).
    type: integer
