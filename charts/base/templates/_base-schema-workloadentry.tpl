description: A single non-Kubernetes workload (for example a VM) and its properties.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  address:
    type: string
  ports:
    description: Port numbers by port name.
    type: object
    additionalProperties:
      type: integer
  labels:
    type: object
    additionalProperties:
      type: string
  network:
    type: string
  locality:
    type: string
  weight:
    type: integer
  serviceAccount:
    type: string
