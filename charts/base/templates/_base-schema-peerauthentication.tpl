description: Whether the selected workloads accept plain text, mutual TLS or both.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  selector:
    {{> base-schema-match-labels}}
  mtls:
    type: object
    properties:
      mode:
        description: UNSET inherits from the namespace or mesh policy.
        type: string
        enum:
        - UNSET
        - DISABLE
        - PERMISSIVE
        - STRICT
  portLevelMtls:
    description: Mutual TLS mode per workload port number.
    type: object
    additionalProperties:
      type: object
      properties:
        mode:
          type: string
          enum:
          - UNSET
          - DISABLE
          - PERMISSIVE
          - STRICT
