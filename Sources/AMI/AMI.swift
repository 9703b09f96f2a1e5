// AMI: implementation lands with its issue.
