apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: workloadentries.networking.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="istio-pilot"}}
spec:
  group: networking.istio.io
  names:
    kind: WorkloadEntry
    listKind: WorkloadEntryList
    plural: workloadentries
    singular: workloadentry
    shortNames:
    - we
    categories:
    - istio-io
    - networking-istio-io
  scope: Namespaced
  versions:
  {{> base-networking-versions schema="base-schema-workloadentry" columns="base-cols-workloadentry" beta=">=1.8.0-0"}}
