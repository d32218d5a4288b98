apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: rules.config.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="mixer" istio="core" package="istio.io.mixer"}}
spec:
  group: config.istio.io
  names:
    kind: rule
    listKind: ruleList
    plural: rules
    singular: rule
    categories:
    - istio-io
    - policy-istio-io
  scope: Namespaced
  versions:
  - name: v1alpha2
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            description: When (match) Mixer sends which instances to which handlers.
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              match:
                type: string
              actions:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
              requestHeaderOperations:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
              responseHeaderOperations:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
              sampling:
                type: object
                x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
