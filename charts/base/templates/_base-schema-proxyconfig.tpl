description: Proxy settings for the workloads it selects.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  selector:
    {{> base-schema-match-labels}}
  concurrency:
    description: Number of proxy worker threads (0 means one per core).
    type: integer
    nullable: true
  environmentVariables:
    type: object
    additionalProperties:
      type: string
  image:
    type: object
    x-kubernetes-preserve-unknown-fields: true
