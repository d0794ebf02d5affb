@echo off
rem kubectl (1.26 and later) runs kubectl_complete-nodewave, found on the
rem PATH, to complete `kubectl nodewave ...`: put this file beside
rem kubectl-nodewave.exe.
kubectl-nodewave.exe __complete %*
