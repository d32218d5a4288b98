apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: destinationrules.networking.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="istio-pilot"}}
spec:
  group: networking.istio.io
  names:
    kind: DestinationRule
    listKind: DestinationRuleList
    plural: destinationrules
    singular: destinationrule
    shortNames:
    - dr
    categories:
    - istio-io
    - networking-istio-io
  scope: Namespaced
  versions:
  {{> base-networking-versions schema="base-schema-destinationrule" columns="base-cols-destinationrule" beta=">=1.5.0-0"}}
