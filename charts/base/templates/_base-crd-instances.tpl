apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: instances.config.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="mixer" istio="mixer-instance" package="instance"}}
spec:
  group: config.istio.io
  names:
    kind: instance
    listKind: instanceList
    plural: instances
    singular: instance
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
            description: How Mixer builds the data handed to a handler, from request attributes.
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              name:
                type: string
              template:
                type: string
              compiledTemplate:
                type: string
              params:
                type: object
                x-kubernetes-preserve-unknown-fields: true
              attributeBindings:
                type: object
                additionalProperties:
                  type: string
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
