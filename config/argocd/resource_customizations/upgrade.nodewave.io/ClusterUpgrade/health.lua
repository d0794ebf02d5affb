-- Argo CD health check for upgrade.nodewave.io/ClusterUpgrade, laid out as
-- Argo CD's resource_customizations/<group>/<kind>/ (health_test.yaml and
-- testdata/ beside it), so that it can be built into Argo CD.
--
-- Until it is, install it as the argocd-cm key
-- resource.customizations.health.upgrade.nodewave.io_ClusterUpgrade
-- (nodewave's config/argocd/argocd-cm.yaml holds this file under that key).
--
-- It reads the kstatus conditions nodewave writes (docs/gitops.md):
--   status not yet written for this generation  -> Progressing
--   Stalled=True or phase Failed                 -> Degraded
--   phase Paused                                 -> Suspended
--   Ready=True                                   -> Healthy
--   anything else (Pending, Progressing)         -> Progressing
-- The message is the Stalled condition's, else the Ready condition's.
--
-- Argo CD runs custom health checks with only its base, table, package and
-- (safe) os libraries: no string library, so no string methods here.

local hs = {}

local function condition(conditions, conditionType)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function messageOf(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local status = obj.status
local generation = obj.metadata.generation
if status == nil or status.observedGeneration == nil or
    (generation ~= nil and status.observedGeneration ~= generation) then
  hs.status = "Progressing"
  if generation ~= nil then
    hs.message = "Waiting for nodewave to observe generation " .. generation
  else
    hs.message = "Waiting for nodewave to observe the ClusterUpgrade"
  end
  return hs
end

local ready = condition(status.conditions, "Ready")
local stalled = condition(status.conditions, "Stalled")

if (stalled ~= nil and stalled.status == "True") or status.phase == "Failed" then
  hs.status = "Degraded"
  if stalled ~= nil and stalled.status == "True" then
    hs.message = messageOf(stalled, "The upgrade is stalled")
  else
    hs.message = messageOf(ready, "The upgrade failed")
  end
  return hs
end

if status.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = messageOf(ready, "The upgrade is paused (spec.paused)")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = messageOf(ready, "Every selected node is upgraded")
  return hs
end

hs.status = "Progressing"
hs.message = messageOf(ready, "The upgrade is in progress")
return hs
