- name: {{name}}
  served: true
  storage: {{storage}}
{{#if columns}}
  additionalPrinterColumns:
  {{> (lookup this "columns")}}
{{/if}}
  schema:
    openAPIV3Schema:
      type: object
      properties:
        spec:
          {{> (lookup this "schema")}}
        status:
          type: object
          x-kubernetes-preserve-unknown-fields: true
  subresources:
    status: {}
