# dlict-observe.ps1 — every observation dlict judges on a Windows PC, as one JSON document.
# Read-only: it changes nothing. Run by the dlict_windows role (ansible.windows.win_powershell)
# and by the dlict agent on Windows; both judge the document with the same Python functions
# (dlict.agent.jobs.windows_checks). Windows PowerShell 5.1 or PowerShell 7.
# A command that fails leaves its section null: the control that needed it fails, with a reason.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Try-Get([scriptblock] $Block) {
    try { & $Block } catch { $null }
}

$terminal = 'HKLM:\System\CurrentControlSet\Control\Terminal Server'
$observed = [ordered]@{
    firewall_profiles = Try-Get { Get-NetFirewallProfile | Select-Object Name, Enabled, DefaultInboundAction }
    defender          = Try-Get { Get-MpComputerStatus | Select-Object AMServiceEnabled, AntivirusEnabled,
                            RealTimeProtectionEnabled, IsTamperProtected, AntivirusSignatureVersion,
                            AntivirusSignatureLastUpdated, AntivirusSignatureAge }
    wuauserv          = Try-Get { Get-Service -Name wuauserv | Select-Object Name, Status, StartType }
    hotfixes          = Try-Get { @(Get-HotFix | Select-Object HotFixID, InstalledOn) }
    bitlocker         = Try-Get { @(Get-BitLockerVolume | Select-Object MountPoint, VolumeType, ProtectionStatus, VolumeStatus) }
    chassis           = Try-Get { Get-CimInstance -ClassName Win32_SystemEnclosure | Select-Object ChassisTypes }
    smb               = Try-Get { Get-SmbServerConfiguration | Select-Object EnableSMB1Protocol }
    rdp               = Try-Get {
        [ordered]@{
            fDenyTSConnections = (Get-ItemProperty -Path $terminal).fDenyTSConnections
            UserAuthentication = (Get-ItemProperty -Path "$terminal\WinStations\RDP-Tcp").UserAuthentication
            Rules = @(Get-NetFirewallRule -DisplayGroup 'Remote Desktop' -Direction Inbound | ForEach-Object {
                [ordered]@{ Name = $_.Name; Enabled = $_.Enabled
                            RemoteAddress = @(($_ | Get-NetFirewallAddressFilter).RemoteAddress) } })
        }
    }
    usbstor           = Try-Get { Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\USBSTOR' | Select-Object Start }
    local_users       = Try-Get { @(Get-LocalUser | Select-Object Name, Enabled, @{ n = 'SID'; e = { $_.SID.Value } }) }
    net_accounts      = Try-Get { (net accounts | Out-String) }
    auditpol          = Try-Get { (auditpol /get /category:* /r | Out-String) }
    security_log      = Try-Get { Get-WinEvent -ListLog Security | Select-Object LogName, IsEnabled, MaximumSizeInBytes, LogMode }
}
$observed | ConvertTo-Json -Depth 5 -Compress
