description: Access control for the workloads it selects.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  selector:
    {{> base-schema-match-labels}}
  action:
    description: What a matching request gets; ALLOW when omitted.
    type: string
    enum:
    - ALLOW
    - DENY
    - AUDIT
    - CUSTOM
  provider:
    description: The external authorizer used by the CUSTOM action.
    type: object
    x-kubernetes-preserve-unknown-fields: true
    properties:
      name:
        type: string
  rules:
    description: A request matches the policy when it matches any rule.
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true
      properties:
        from:
          type: array
          items:
            type: object
            x-kubernetes-preserve-unknown-fields: true
        to:
          type: array
          items:
            type: object
            x-kubernetes-preserve-unknown-fields: true
        when:
          type: array
          items:
            type: object
            x-kubernetes-preserve-unknown-fields: true
