<#
.SYNOPSIS
Restarts the Compose service "backend" and checks it came back healthy.

.DESCRIPTION
The old restart helper's interface, kept so that existing runbooks keep
working on Windows: runs "preflight restart backend", which waits until the
backend is healthy after this restart, then shows its log lines since the
restart and the doctor summary. Exit codes are preflight's: 0 healthy, 1 not
healthy in time, 2 invalid option or no docker.

preflight is found on PATH, or set $env:PREFLIGHT_BIN to its path.

.PARAMETER Logs
Show the backend's log lines since the restart (the default). -Logs:$false
hides them, like -NoLogs.

.PARAMETER NoLogs
Do not show the backend's log lines.

.PARAMETER TailLines
How many log lines since the restart to show (default 50).

.PARAMETER Timeout
How long to wait for the backend to be healthy, e.g. 3m (default 120s).

.PARAMETER Rest
Further options passed to "preflight restart" as they are, e.g.
--project-directory C:\stack.

.EXAMPLE
.\scripts\restart-backend.ps1 -TailLines 200

.EXAMPLE
.\scripts\restart-backend.ps1 -Logs:$false
#>
[CmdletBinding()]
param(
  [switch]$Logs = $true,
  [switch]$NoLogs,
  [ValidateRange(0, 1000000)]
  [int]$TailLines = 50,
  [string]$Timeout,
  [Parameter(ValueFromRemainingArguments = $true)]
  [string[]]$Rest
)

$ErrorActionPreference = 'Stop'
$bin = if ($env:PREFLIGHT_BIN) { $env:PREFLIGHT_BIN } else { 'preflight' }
if (-not (Get-Command $bin -ErrorAction SilentlyContinue)) {
  [Console]::Error.WriteLine(
    "restart-backend.ps1: '$bin' not found: put preflight on PATH or set PREFLIGHT_BIN to its path")
  exit 127
}

$argv = @('restart', 'backend')
if (-not $Logs -or $NoLogs) { $argv += '--no-logs' }
if ($PSBoundParameters.ContainsKey('TailLines')) { $argv += @('--tail-lines', "$TailLines") }
if ($Timeout) { $argv += @('--timeout', $Timeout) }
if ($Rest) { $argv += $Rest }

& $bin @argv
exit $LASTEXITCODE
