description: A template for the workload entries of a group of non-Kubernetes workloads.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  metadata:
    type: object
    x-kubernetes-preserve-unknown-fields: true
    properties:
      labels:
        type: object
        additionalProperties:
          type: string
      annotations:
        type: object
        additionalProperties:
          type: string
  template:
    type: object
    x-kubernetes-preserve-unknown-fields: true
  probe:
    type: object
    x-kubernetes-preserve-unknown-fields: true
