description: Where the alpha Istio RBAC is enforced.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  mode:
    type: string
    enum:
    - "OFF"
    - "ON"
    - ON_WITH_INCLUSION
    - ON_WITH_EXCLUSION
  inclusion:
    type: object
    x-kubernetes-preserve-unknown-fields: true
    properties:
      services:
        type: array
        items:
          type: string
      namespaces:
        type: array
        items:
          type: string
  exclusion:
    type: object
    x-kubernetes-preserve-unknown-fields: true
    properties:
      services:
        type: array
        items:
          type: string
      namespaces:
        type: array
        items:
          type: string
  enforcementMode:
    type: string
    enum:
    - ENFORCED
    - PERMISSIVE
