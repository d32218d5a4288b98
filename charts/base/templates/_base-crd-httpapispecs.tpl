apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: httpapispecs.config.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="istio-mixer"}}
spec:
  group: config.istio.io
  names:
    kind: HTTPAPISpec
    listKind: HTTPAPISpecList
    plural: httpapispecs
    singular: httpapispec
    categories:
    - istio-io
    - apim-istio-io
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
            description: HTTP API operations (patterns) and how API keys are read.
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              attributes:
                type: object
                x-kubernetes-preserve-unknown-fields: true
              patterns:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
              apiKeys:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
