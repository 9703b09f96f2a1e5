// Spooler: implementation lands with its issue.
