// CallFile: implementation lands with its issue.
