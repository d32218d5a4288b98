description: Adds an entry (often an external service) to Istio's service registry.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  hosts:
    description: Host names of the service.
    type: array
    items:
      type: string
  addresses:
    description: Virtual IP addresses of the service.
    type: array
    items:
      type: string
  ports:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
      properties:
        number:
          type: integer
        protocol:
          type: string
        name:
          type: string
        targetPort:
          type: integer
  location:
    description: Whether the service is inside or outside the mesh.
    type: string
    enum:
    - MESH_EXTERNAL
    - MESH_INTERNAL
  resolution:
    description: How the service's endpoints are found.
    type: string
    enum:
    - NONE
    - STATIC
    - DNS
    - DNS_ROUND_ROBIN
  endpoints:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
  workloadSelector:
    {{> base-schema-workload-labels}}
  exportTo:
    type: array
    items:
      type: string
  subjectAltNames:
    type: array
    items:
      type: string
