; Inno Setup script: wraps the PyInstaller one-folder bundle into a Windows installer.
; On a Windows machine with Python 3.11+ and Inno Setup 6:
;   py -m venv .venv && .venv\Scripts\pip install -e .[bundle]
;   .venv\Scripts\python -m PyInstaller --noconfirm build.spec
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" packaging\windows\abrasio.iss
; -> dist\Abrasio-0.1.0-setup.exe
; The clinic database lives in %LOCALAPPDATA%\Abrasio\Abrasio and is never part of the install:
; installing, upgrading and uninstalling leave it as it is; a new version migrates it on first start.

#define AppVersion "0.1.0"

[Setup]
AppId={{6C1E5B7A-2F4D-4E8B-9A61-ABRASIO00001}
AppName=Abrasio
AppVersion={#AppVersion}
AppPublisher=Abrasio
DefaultDirName={autopf}\Abrasio
DefaultGroupName=Abrasio
OutputDir=..\..\dist
OutputBaseFilename=Abrasio-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\abrasio.ico
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog
UninstallDisplayIcon={app}\Abrasio.exe

[Files]
Source: "..\..\dist\Abrasio\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Abrasio"; Filename: "{app}\Abrasio.exe"
Name: "{group}\Abrasio self-test"; Filename: "{app}\Abrasio.exe"; Parameters: "--self-test"
Name: "{autodesktop}\Abrasio"; Filename: "{app}\Abrasio.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop icon"; Flags: unchecked

[Run]
Filename: "{app}\Abrasio.exe"; Parameters: "--self-test"; Description: "Run the self-test"; Flags: postinstall skipifsilent unchecked
