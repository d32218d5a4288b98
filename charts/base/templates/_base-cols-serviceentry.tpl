- name: Hosts
  type: string
  jsonPath: .spec.hosts
  description: Host names of the service.
- name: Location
  type: string
  jsonPath: .spec.location
  description: MESH_EXTERNAL or MESH_INTERNAL.
- name: Resolution
  type: string
  jsonPath: .spec.resolution
  description: How endpoints are found (NONE, STATIC, DNS, ...).
{{> base-col-age}}
