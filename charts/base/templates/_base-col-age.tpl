- name: Age
  type: date
  jsonPath: .metadata.creationTimestamp
  description: How long ago the object was created.
