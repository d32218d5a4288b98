description: Which JSON Web Tokens the selected workloads validate.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  selector:
    {{> base-schema-match-labels}}
  jwtRules:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
      properties:
        issuer:
          type: string
        audiences:
          type: array
          items:
            type: string
        jwksUri:
          type: string
        jwks:
          type: string
        fromHeaders:
          type: array
          items:
            type: object
            x-kubernetes-preserve-unknown-fields: true
        fromParams:
          type: array
          items:
            type: string
        outputPayloadToHeader:
          type: string
        forwardOriginalToken:
          type: boolean
