<#
.SYNOPSIS
  Replays the bypass suite's operations with reg.exe on a real Windows test machine and compares
  what Windows did with what `hivewarden eval` decided (docs/WINDOWS.md, "On a real machine").

.DESCRIPTION
  For a DISPOSABLE test VM (take a snapshot first) with hivewarden.sys loaded and the default
  policy pushed (`hivewarden-svc push default.hwp`). Run it from an elevated 64-bit Windows
  PowerShell 5.1 (or later), best as SYSTEM (`psexec -s -i powershell.exe`), because the keys the
  suite names are ACL'd against administrators.

  Reads tests/security/bypass/operations.jsonl (the suite's attempts as `eval` lines, rendered by
  tests/security/bypass_test.cpp) and expected.jsonl (`hivewarden eval` of them under the default
  policy). Every line with "reg_exe": true is performed once:
    create-key   reg add KEY /f                 (only when the key is absent and its parent exists)
    set-value    reg add KEY /v VALUE ... /f    (writes the value's current data back; a new value
                                                 gets REG_SZ "hivewarden-bypass-test")
    delete-value reg delete KEY /v VALUE /f     (the data is put back when it was allowed)
    delete-key   reg delete KEY /f              (exported first; imported again if anything changed)
    rename-key   RegRenameKey (one NtRenameKey, what the driver sees as a rename; the registry
                 provider's Rename-Item copies and deletes instead); renamed back when allowed.
                 A source key the machine lacks (the suite's decoys) is created first and
                 deleted afterwards.
    restore-key  reg save KEY f /y, then reg restore KEY f (the same content)
    replace-key  never (the data marks it unreproducible)
  Success counts as allow, "Access is denied" (in the machine's language) as deny, any other
  failure as inconclusive. Lines marked "reg_exe": false are skipped with the reason the data gives; lines
  the machine cannot take as stated (a key that does not exist here...) are skipped with a reason.
  The script touches only the keys and values the data names (and temporary files in $env:TEMP).

  Exit code: 0 all compared operations matched; 1 at least one mismatch; 2 refused to run or bad
  input; 3 no mismatch but some outcomes were inconclusive.

.PARAMETER ThisIsADisposableTestMachine
  Required. Without it the script does nothing.

.PARAMETER Baseline
  Expect "allow" for every operation: run it once BEFORE loading the driver to see what Windows
  itself refuses (ACLs, keys in use), so that a "deny" later can be told from Windows' own.

.PARAMETER Only
  Ids (the data's "id") to run; all when empty.

.EXAMPLE
  .\bypass-on-windows.ps1 -ThisIsADisposableTestMachine
#>
[CmdletBinding()]
param(
    [switch]$ThisIsADisposableTestMachine,
    [string]$Operations = '',
    [string]$Expected = '',
    [switch]$Baseline,
    [int[]]$Only = @()
)

# Nothing, not even reading the data, happens before this check.
if (-not $ThisIsADisposableTestMachine) {
    [Console]::Error.WriteLine('bypass-on-windows.ps1 changes protected registry keys (it tries to ' +
        'disable Defender, delete service keys, restore hives). Run it only on a disposable test VM, ' +
        'with -ThisIsADisposableTestMachine.')
    exit 2
}

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$DataDir = Join-Path (Split-Path -Parent (Split-Path -Parent $PSScriptRoot)) 'tests\security\bypass'
if ($Operations -eq '') { $Operations = Join-Path $DataDir 'operations.jsonl' }
if ($Expected -eq '') { $Expected = Join-Path $DataDir 'expected.jsonl' }
$TestValueData = 'hivewarden-bypass-test'
$RegExe = Join-Path $env:SystemRoot 'System32\reg.exe'

function Stop-WithError([string]$Message) {
    [Console]::Error.WriteLine("error: $Message")
    exit 2
}

function Assert-Prerequisites {
    if (-not [Environment]::Is64BitProcess) {
        Stop-WithError 'run a 64-bit PowerShell (a 32-bit one sees HKLM\SOFTWARE through Wow6432Node)'
    }
    $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
        Stop-WithError 'run elevated (as Administrator, or as SYSTEM with psexec -s)'
    }
    if (-not $Baseline) {
        # A kernel driver's service: Win32_SystemDriver lists it (Get-Service may not).
        $driver = Get-CimInstance -ClassName Win32_SystemDriver -Filter "Name='hivewarden'" -ErrorAction SilentlyContinue
        if ($null -eq $driver -or $driver.State -ne 'Running') {
            Stop-WithError 'the hivewarden driver is not running (sc start hivewarden); use -Baseline to run without it'
        }
    }
}

# A field of a JSON line, or $Default when the line has none (StrictMode forbids missing names).
function Get-Field($Object, [string]$Name, $Default = $null) {
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $Default }
    return $property.Value
}

# The JSON lines of $Path, each parsed; a line that does not parse stops the run, naming it.
function Read-JsonLines([string]$Path) {
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { Stop-WithError "$Path does not exist" }
    $lines = [IO.File]::ReadAllLines($Path, [Text.Encoding]::UTF8)
    $objects = New-Object System.Collections.Generic.List[object]
    for ($i = 0; $i -lt $lines.Length; $i++) {
        if ($lines[$i].Trim() -eq '') { continue }
        try { $objects.Add(($lines[$i] | ConvertFrom-Json)) }
        catch { Stop-WithError "${Path}: line $($i + 1): not JSON ($($_.Exception.Message))" }
    }
    return , $objects
}

Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class HivewardenBypassNative {
    [DllImport("advapi32.dll", CharSet = CharSet.Unicode)]
    public static extern int RegRenameKey(IntPtr key, string subKeyName, string newKeyName);
    // The predefined handles (winreg.h), sign-extended as HKEY values are.
    public static IntPtr Root(string hive) {
        switch (hive) {
            case "CurrentUser": return new IntPtr(unchecked((int)0x80000001));
            case "LocalMachine": return new IntPtr(unchecked((int)0x80000002));
            case "Users": return new IntPtr(unchecked((int)0x80000003));
            case "CurrentConfig": return new IntPtr(unchecked((int)0x80000005));
            default: throw new ArgumentException("unknown hive " + hive);
        }
    }
}
'@

# The Win32 root of $Key: its .NET hive name and the path under it ($null for another root).
function Split-Key([string]$Key) {
    $at = $Key.IndexOf('\')
    $rootName = if ($at -lt 0) { $Key } else { $Key.Substring(0, $at) }
    $sub = if ($at -lt 0) { '' } else { $Key.Substring($at + 1) }
    switch ($rootName.ToUpperInvariant()) {
        { $_ -in 'HKLM', 'HKEY_LOCAL_MACHINE' } { $hive = 'LocalMachine' }
        { $_ -in 'HKU', 'HKEY_USERS' } { $hive = 'Users' }
        { $_ -in 'HKCU', 'HKEY_CURRENT_USER' } { $hive = 'CurrentUser' }
        { $_ -in 'HKCC', 'HKEY_CURRENT_CONFIG' } { $hive = 'CurrentConfig' }
        default { return $null }
    }
    return [pscustomobject]@{ Hive = $hive; Sub = $sub }
}

# The key's parent as reg.exe names it ('' for a root), trailing separators ignored.
function Get-ParentKey([string]$Key) {
    $trimmed = $Key.TrimEnd('\')
    $at = $trimmed.LastIndexOf('\')
    if ($at -lt 0) { return '' }
    return $trimmed.Substring(0, $at)
}

function Get-LeafName([string]$Key) {
    $trimmed = $Key.TrimEnd('\')
    return $trimmed.Substring($trimmed.LastIndexOf('\') + 1)
}

# Opens $Key read-only through .NET (64-bit view): the key, $null when absent; throws when denied.
function Open-Key([string]$Key) {
    $split = Split-Key $Key
    if ($null -eq $split) { throw "unknown root in $Key" }
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]$split.Hive,
        [Microsoft.Win32.RegistryView]::Registry64)
    if ($split.Sub -eq '') { return $base }
    return $base.OpenSubKey($split.Sub, $false)
}

# 'present', 'absent' or 'unreadable'.
function Test-Key([string]$Key) {
    try {
        $k = Open-Key $Key
        if ($null -eq $k) { return 'absent' }
        $k.Close()
        return 'present'
    } catch { return 'unreadable' }
}

# The value's kind and data ($null when absent); throws when it cannot be read.
function Get-ValueBackup([string]$Key, [string]$Name) {
    $k = Open-Key $Key
    if ($null -eq $k) { throw "$Key cannot be opened" }
    try {
        # Windows itself says whether the name exists (its own case folding, not PowerShell's).
        try { $kind = $k.GetValueKind($Name) }
        catch [System.IO.IOException] { return $null }
        $data = $k.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
        return [pscustomobject]@{ Kind = $kind; Data = $data }
    } finally { $k.Close() }
}

# The reg add arguments (/t TYPE /d DATA ...) that write $Backup back; $null when reg add cannot.
function Get-RegAddDataArguments($Backup) {
    switch ($Backup.Kind.ToString()) {
        'String' { return @('/t', 'REG_SZ', '/d', [string]$Backup.Data) }
        'ExpandString' { return @('/t', 'REG_EXPAND_SZ', '/d', [string]$Backup.Data) }
        'DWord' { return @('/t', 'REG_DWORD', '/d', [string][BitConverter]::ToUInt32([BitConverter]::GetBytes([int32]$Backup.Data), 0)) }
        'QWord' { return @('/t', 'REG_QWORD', '/d', [string][BitConverter]::ToUInt64([BitConverter]::GetBytes([int64]$Backup.Data), 0)) }
        'Binary' {
            $hex = -join ($Backup.Data | ForEach-Object { $_.ToString('X2') })
            if ($hex -eq '') { return $null }
            return @('/t', 'REG_BINARY', '/d', $hex)
        }
        'MultiString' {
            $items = @($Backup.Data)
            if ($items.Count -eq 0 -or ($items | Where-Object { $_ -eq '' -or $_.Contains('|') })) { return $null }
            return @('/t', 'REG_MULTI_SZ', '/s', '|', '/d', ($items -join '|'))
        }
        default { return $null }
    }
}

# One argument as the C runtime's command-line parser reads it back (quotes and backslashes).
function ConvertTo-CommandLineArgument([string]$Argument) {
    if ($Argument.Length -gt 0 -and $Argument -notmatch '[\s"]') { return $Argument }
    $builder = New-Object System.Text.StringBuilder
    [void]$builder.Append('"')
    $backslashes = 0
    foreach ($ch in $Argument.ToCharArray()) {
        if ($ch -eq [char]'\') { $backslashes++; continue }
        if ($ch -eq [char]'"') { [void]$builder.Append([char]'\', 2 * $backslashes + 1) }
        elseif ($backslashes -gt 0) { [void]$builder.Append([char]'\', $backslashes) }
        [void]$builder.Append($ch)
        $backslashes = 0
    }
    [void]$builder.Append([char]'\', 2 * $backslashes)
    [void]$builder.Append('"')
    return $builder.ToString()
}

# Runs reg.exe with exactly these arguments (no shell, no PowerShell argument rewriting).
function Invoke-Reg([string[]]$Arguments) {
    $info = New-Object System.Diagnostics.ProcessStartInfo
    $info.FileName = $RegExe
    $info.Arguments = ($Arguments | ForEach-Object { ConvertTo-CommandLineArgument $_ }) -join ' '
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.CreateNoWindow = $true
    $process = [System.Diagnostics.Process]::Start($info)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEnd()
    $process.WaitForExit()
    return [pscustomobject]@{ ExitCode = $process.ExitCode; Text = ($stdout.Result + ' ' + $stderr).Trim() }
}

# Windows' own text for ERROR_ACCESS_DENIED, in the machine's language ("Access is denied.").
$AccessDeniedText = (New-Object System.ComponentModel.Win32Exception 5).Message.TrimEnd('.')

function Get-RegOutcome($Result) {
    if ($Result.ExitCode -eq 0) { return 'allow' }
    if ($Result.Text.Contains($AccessDeniedText)) { return 'deny' }
    return 'error'
}

function Get-Win32Outcome([int]$Code) {
    if ($Code -eq 0) { return 'allow' }
    if ($Code -eq 5) { return 'deny' }
    return 'error'
}

function New-Outcome([string]$Outcome, [string]$Note = '') {
    return [pscustomobject]@{ Outcome = $Outcome; Note = $Note }
}

function New-Skip([string]$Reason) { return New-Outcome 'skipped' $Reason }

# Handlers: each performs one line's operation and gives its outcome (allow | deny | error |
# skipped) with a note; each leaves the machine as it found it where the policy let it.

function Invoke-CreateKey($Line) {
    $key = $Line.key
    if ((Test-Key (Get-ParentKey $key)) -ne 'present') {
        return New-Skip 'the parent key does not exist here (reg add would create it first: other operations)'
    }
    if ((Test-Key $key) -ne 'absent') {
        return New-Skip 'the key exists here, the data says it does not (a create would only open it)'
    }
    $result = Invoke-Reg @('add', $key, '/f')
    $note = $result.Text
    if ((Test-Key $key) -eq 'present') {
        $cleanup = Invoke-Reg @('delete', $key, '/f')
        if ($cleanup.ExitCode -ne 0) { $note = "LEFT BEHIND: $key ($($cleanup.Text))" }
    }
    return New-Outcome (Get-RegOutcome $result) $note
}

function Invoke-SetValue($Line) {
    $key = $Line.key
    $name = [string](Get-Field $Line 'value' '')
    if ((Test-Key $key) -ne 'present') {
        return New-Skip 'the key does not exist here (Windows does not take this name for an existing key; reg add would create it)'
    }
    try { $backup = Get-ValueBackup $key $name }
    catch { return New-Skip "cannot read the current value to write it back ($($_.Exception.Message))" }
    if ($null -eq $backup) {
        $result = Invoke-Reg @('add', $key, '/v', $name, '/t', 'REG_SZ', '/d', $TestValueData, '/f')
        $note = $result.Text
        if ($result.ExitCode -eq 0) {
            $cleanup = Invoke-Reg @('delete', $key, '/v', $name, '/f')
            if ($cleanup.ExitCode -ne 0) { $note = "LEFT BEHIND: value $name in $key ($($cleanup.Text))" }
        }
        return New-Outcome (Get-RegOutcome $result) $note
    }
    $data = Get-RegAddDataArguments $backup
    if ($null -eq $data) { return New-Skip "reg add cannot write the current data ($($backup.Kind)) back" }
    $result = Invoke-Reg (@('add', $key, '/v', $name) + $data + @('/f'))
    return New-Outcome (Get-RegOutcome $result) $result.Text
}

function Invoke-DeleteValue($Line) {
    $key = $Line.key
    $name = [string](Get-Field $Line 'value' '')
    if ((Test-Key $key) -ne 'present') { return New-Skip 'the key does not exist here' }
    try { $backup = Get-ValueBackup $key $name }
    catch { return New-Skip "cannot read the value to put it back ($($_.Exception.Message))" }
    if ($null -eq $backup) { return New-Skip 'the value does not exist here' }
    $data = Get-RegAddDataArguments $backup
    if ($null -eq $data) { return New-Skip "reg add could not put the value ($($backup.Kind)) back" }
    $result = Invoke-Reg @('delete', $key, '/v', $name, '/f')
    $note = $result.Text
    if ($result.ExitCode -eq 0) {
        $restore = Invoke-Reg (@('add', $key, '/v', $name) + $data + @('/f'))
        if ($restore.ExitCode -ne 0) { $note = "NOT PUT BACK: value $name in $key ($($restore.Text))" }
    }
    return New-Outcome (Get-RegOutcome $result) $note
}

function New-TempFile([string]$Extension) {
    return Join-Path $env:TEMP ('hivewarden-bypass-' + [Guid]::NewGuid().ToString('N') + $Extension)
}

function Invoke-DeleteKey($Line) {
    $key = $Line.key
    if ((Test-Key $key) -ne 'present') { return New-Skip 'the key does not exist here' }
    $before = New-TempFile '.reg'
    $after = New-TempFile '.reg'
    try {
        $export = Invoke-Reg @('export', $key, $before, '/y')
        if ($export.ExitCode -ne 0) { return New-Skip "cannot back the key up first ($($export.Text))" }
        $result = Invoke-Reg @('delete', $key, '/f')
        $note = $result.Text
        # reg delete removes a tree leaf first: even a denial may come after some subkeys went.
        $check = Invoke-Reg @('export', $key, $after, '/y')
        $unchanged = $check.ExitCode -eq 0 -and
            ([IO.File]::ReadAllText($before) -eq [IO.File]::ReadAllText($after))
        if (-not $unchanged) {
            $import = Invoke-Reg @('import', $before)
            if ($import.ExitCode -eq 0) { $note = "re-imported from a backup; $note" }
            else {
                $note = "NOT PUT BACK: $key (backup kept at ${before}: $($import.Text))"
                $before = ''
            }
        }
        return New-Outcome (Get-RegOutcome $result) $note
    } finally {
        foreach ($file in @($before, $after)) {
            if ($file -ne '' -and (Test-Path -LiteralPath $file)) { Remove-Item -LiteralPath $file }
        }
    }
}

function Get-Win32Message([int]$Code) { return (New-Object System.ComponentModel.Win32Exception $Code).Message }

function Invoke-RenameKey($Line) {
    $key = $Line.key
    $newName = [string](Get-Field $Line 'new_name' '')
    $parent = Get-ParentKey $key
    $target = "$parent\$newName"
    $prepared = $false
    if ((Test-Key $key) -eq 'absent' -and (Test-Key $parent) -eq 'present') {
        # The suite's decoys (Decoy, Prepared, Evil...): made here, deleted below.
        $prepare = Invoke-Reg @('add', $key, '/f')
        if ($prepare.ExitCode -ne 0) { return New-Skip "cannot create the key to rename ($($prepare.Text))" }
        $prepared = $true
    }
    if ((Test-Key $key) -ne 'present') { return New-Skip 'the key does not exist here' }
    $split = Split-Key $key
    $root = [HivewardenBypassNative]::Root($split.Hive)
    $code = [HivewardenBypassNative]::RegRenameKey($root, $split.Sub.TrimEnd('\'), $newName)
    $note = Get-Win32Message $code
    if ($code -eq 0) {
        $back = [HivewardenBypassNative]::RegRenameKey($root, (Split-Key $target).Sub, (Get-LeafName $key))
        if ($back -ne 0) { $note = "NOT RENAMED BACK: $target ($(Get-Win32Message $back))" }
    }
    if ($prepared -and (Test-Key $key) -eq 'present') {
        $cleanup = Invoke-Reg @('delete', $key, '/f')
        if ($cleanup.ExitCode -ne 0) { $note = "LEFT BEHIND: $key ($($cleanup.Text))" }
    }
    return New-Outcome (Get-Win32Outcome $code) $note
}

function Invoke-RestoreKey($Line) {
    $key = $Line.key
    if ((Test-Key $key) -ne 'present') { return New-Skip 'the key does not exist here' }
    $hive = New-TempFile '.hiv'
    try {
        # Restores the key's own content: even a wrongly allowed restore changes nothing.
        $save = Invoke-Reg @('save', $key, $hive, '/y')
        if ($save.ExitCode -ne 0) { return New-Skip "reg save of the key failed ($($save.Text))" }
        $result = Invoke-Reg @('restore', $key, $hive)
        return New-Outcome (Get-RegOutcome $result) $result.Text
    } finally {
        if (Test-Path -LiteralPath $hive) { Remove-Item -LiteralPath $hive }
    }
}

function Invoke-Line($Line) {
    if (-not [bool](Get-Field $Line 'reg_exe' $false)) {
        return New-Skip ([string](Get-Field $Line 'unreproducible' 'marked unreproducible, no reason given'))
    }
    if ($null -eq (Split-Key $Line.key)) { return New-Skip "a root reg.exe does not take: $($Line.key)" }
    switch ([string]$Line.op) {
        'create-key' { return Invoke-CreateKey $Line }
        'set-value' { return Invoke-SetValue $Line }
        'delete-value' { return Invoke-DeleteValue $Line }
        'delete-key' { return Invoke-DeleteKey $Line }
        'rename-key' { return Invoke-RenameKey $Line }
        'restore-key' { return Invoke-RestoreKey $Line }
        'replace-key' { return New-Skip 'the script does not replace live hives (RegReplaceKey acts at the next boot)' }
        'query-value' { return New-Skip 'query-value is never denied: nothing to compare' }
        default { return New-Skip "no handler for op $($Line.op)" }
    }
}

function Get-Status([string]$Expected, [string]$Got) {
    if ($Got -eq 'skipped') { return 'skipped' }
    if ($Got -eq 'error') { return 'inconclusive' }
    if ($Got -eq $Expected) { return 'match' }
    return 'MISMATCH'
}

function Get-Short([string]$Text, [int]$Width) {
    $printable = -join ($Text.ToCharArray() | ForEach-Object { if ([int]$_ -lt 32) { '?' } else { $_ } })
    if ($printable.Length -le $Width) { return $printable }
    return $printable.Substring(0, $Width - 3) + '...'
}

Assert-Prerequisites
$operationLines = Read-JsonLines $Operations
$expectedLines = Read-JsonLines $Expected
if ($operationLines.Count -ne $expectedLines.Count) {
    Stop-WithError "$Operations has $($operationLines.Count) lines, $Expected $($expectedLines.Count): regenerate them together"
}
$expectedById = @{}
foreach ($e in $expectedLines) { $expectedById[[int](Get-Field $e 'line' 0)] = $e }

$rows = New-Object System.Collections.Generic.List[object]
foreach ($line in $operationLines) {
    $id = [int](Get-Field $line 'id' 0)
    if ($Only.Count -gt 0 -and -not ($Only -contains $id)) { continue }
    $decided = $expectedById[$id]
    if ($null -eq $decided -or [string](Get-Field $decided 'op' '') -ne [string]$line.op) {
        Stop-WithError "expected.jsonl has no decision for id $id ($($line.op)): regenerate it"
    }
    $expectedDecision = if ($Baseline) { 'allow' } else { [string]$decided.decision }
    $outcome = Invoke-Line $line
    $rows.Add([pscustomobject]@{
            Id       = $id
            Op       = [string]$line.op
            Route    = [string](Get-Field $line 'route' '')
            What     = Get-Short ([string](Get-Field $line 'what' '')) 40
            Expected = $expectedDecision
            Got      = $outcome.Outcome
            Status   = Get-Status $expectedDecision $outcome.Outcome
            Note     = [string]$outcome.Note
        })
}

$shortNote = @{ Label = 'Note'; Expression = { Get-Short $_.Note 70 } }
$rows | Format-Table -AutoSize Id, Op, Route, What, Expected, Got, Status, $shortNote | Out-String -Width 260 | Write-Output

$count = @{}
foreach ($status in 'match', 'MISMATCH', 'inconclusive', 'skipped') {
    $count[$status] = @($rows | Where-Object { $_.Status -eq $status }).Count
}
Write-Output ("summary: {0} operations, {1} match, {2} mismatch, {3} inconclusive, {4} skipped" -f
    $rows.Count, $count['match'], $count['MISMATCH'], $count['inconclusive'], $count['skipped'])
Write-Output 'skipped, by reason:'
$rows | Where-Object { $_.Status -eq 'skipped' } | Group-Object Note | Sort-Object Count -Descending |
    ForEach-Object { Write-Output ("  {0,3}  {1}" -f $_.Count, $_.Name) }
$leftBehind = @($rows | Where-Object { $_.Note -match '^(LEFT BEHIND|NOT PUT BACK|NOT RENAMED BACK)' })
if ($leftBehind.Count -gt 0) {
    Write-Output "WARNING: $($leftBehind.Count) operations could not be undone (see Note): revert the VM snapshot"
}

if ($count['MISMATCH'] -gt 0) { exit 1 }
if ($count['inconclusive'] -gt 0) { exit 3 }
exit 0
