description: Routing rules for traffic addressed to a set of hosts.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  hosts:
    description: Destination hosts the rules apply to.
    type: array
    items:
      type: string
  gateways:
    description: Gateways (and "mesh" for sidecars) that apply the rules.
    type: array
    items:
      type: string
  http:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  tls:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  tcp:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  exportTo:
    type: array
    items:
      type: string
