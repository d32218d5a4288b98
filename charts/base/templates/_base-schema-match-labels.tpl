description: Workloads (pods or VMs) the resource applies to, by label; omitted means every workload in its namespace.
type: object
properties:
  matchLabels:
    type: object
    additionalProperties:
      type: string
