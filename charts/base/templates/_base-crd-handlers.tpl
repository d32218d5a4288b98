apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: handlers.config.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="mixer" istio="mixer-handler" package="handler"}}
spec:
  group: config.istio.io
  names:
    kind: handler
    listKind: handlerList
    plural: handlers
    singular: handler
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
            description: A configured Mixer adapter.
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              name:
                type: string
              adapter:
                type: string
              compiledAdapter:
                type: string
              params:
                type: object
                x-kubernetes-preserve-unknown-fields: true
              connection:
                type: object
                x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
