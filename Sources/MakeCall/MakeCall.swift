// MakeCall: implementation lands with its issue.
