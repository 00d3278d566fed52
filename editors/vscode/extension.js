// The proofcheck extension: starts `proofcheck lsp` for .pf files.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("proofcheck");
  const command = config.get("command") || ["proofcheck", "lsp"];
  const server = { command: command[0], args: command.slice(1) };
  client = new LanguageClient(
    "proofcheck",
    "proofcheck",
    { run: server, debug: server },
    {
      documentSelector: [
        { scheme: "file", language: "pf" },
        { scheme: "untitled", language: "pf" },
      ],
    }
  );
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("proofcheck.command")) {
        vscode.window.showInformationMessage("proofcheck: reload the window to use the new server command.");
      }
    })
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
