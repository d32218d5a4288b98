apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {{plural}}.config.istio.io
  labels:
    app: mixer
    package: {{package}}
    istio: mixer-{{package}}
    release: {{Release.Name}}
  annotations:
    helm.sh/resource-policy: keep
spec:
  group: config.istio.io
  names:
    kind: {{kind}}
    listKind: {{kind}}List
    plural: {{plural}}
    singular: {{singular}}
    categories:
    - istio-io
    - policy-istio-io
  scope: Namespaced
  versions:
  - name: v1alpha2
    served: true
    storage: true
    subresources:
      status: {}
    schema:
      openAPIV3Schema:
        type: object
        description: Describes an out-of-process Mixer {{singular}}.
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
