apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: workloadgroups.networking.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="istio-pilot"}}
spec:
  group: networking.istio.io
  names:
    kind: WorkloadGroup
    listKind: WorkloadGroupList
    plural: workloadgroups
    singular: workloadgroup
    shortNames:
    - wg
    categories:
    - istio-io
    - networking-istio-io
  scope: Namespaced
  versions:
  {{> base-networking-versions schema="base-schema-workloadgroup" columns="base-col-age" beta=">=1.22.0-0"}}
