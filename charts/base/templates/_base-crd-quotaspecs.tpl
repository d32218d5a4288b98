apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: quotaspecs.config.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="istio-mixer"}}
spec:
  group: config.istio.io
  names:
    kind: QuotaSpec
    listKind: QuotaSpecList
    plural: quotaspecs
    singular: quotaspec
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
            description: Which quotas a request is charged against.
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              rules:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
