apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicerolebindings.rbac.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="mixer" istio="rbac" package="istio.io.mixer"}}
spec:
  group: rbac.istio.io
  names:
    kind: ServiceRoleBinding
    listKind: ServiceRoleBindingList
    plural: servicerolebindings
    singular: servicerolebinding
    categories:
    - istio-io
    - rbac-istio-io
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    additionalPrinterColumns:
    - name: Reference
      type: string
      jsonPath: .spec.roleRef.name
      description: The ServiceRole granted.
    {{> base-col-age}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            description: Grants a ServiceRole to a list of subjects.
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              subjects:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
              roleRef:
                type: object
                properties:
                  kind:
                    type: string
                  name:
                    type: string
              mode:
                type: string
                enum:
                - ENFORCED
                - PERMISSIVE
              actions:
                type: array
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
              role:
                type: string
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
    subresources:
      status: {}
