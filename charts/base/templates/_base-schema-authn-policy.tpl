description: Alpha authentication policy (peer mutual TLS and origin JWT) for a mesh, namespace or services.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  targets:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  peers:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  peerIsOptional:
    type: boolean
  origins:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  originIsOptional:
    type: boolean
  principalBinding:
    type: string
    enum:
    - USE_PEER
    - USE_ORIGIN
