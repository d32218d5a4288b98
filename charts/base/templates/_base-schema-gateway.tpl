description: A load balancer at the edge of the mesh and the ports, protocols and hosts it serves.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  selector:
    description: Labels of the gateway pods this configuration applies to.
    type: object
    additionalProperties:
      type: string
  servers:
    description: The listeners the gateway opens.
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
      properties:
        name:
          type: string
        port:
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
        hosts:
          type: array
          items:
            type: string
        tls:
          type: object
          x-kubernetes-preserve-unknown-fields: true
        bind:
          type: string
        defaultEndpoint:
          type: string
