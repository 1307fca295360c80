// VK_LAYER_TESSERA_fake_stats: for selftest.sh only. Placed below VK_LAYER_TESSERA_stats on a driver
// without VK_KHR_pipeline_executable_properties (lavapipe), it plays a driver that has it: lists the
// extension and its feature, takes them out again before the real vkCreateDevice and
// vkCreateComputePipelines, and answers the three queries with one executable, two statistics and
// one text representation, so the statistics layer's whole path runs without the GPU.
#include "layer_chain.h"
#include <vulkan/vulkan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static PFN_vkGetInstanceProcAddr nextInstanceProcAddr;
static PFN_vkGetDeviceProcAddr nextDeviceProcAddr;
static VkInstance theInstance;
static PFN_vkEnumerateDeviceExtensionProperties nextEnumerate;
static PFN_vkGetPhysicalDeviceFeatures2 nextFeatures2;
static const char *EXT = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;

static VKAPI_ATTR VkResult VKAPI_CALL fakeCreateInstance(const VkInstanceCreateInfo *info, const VkAllocationCallbacks *alloc, VkInstance *out) {
  VkLayerInstanceLink *link = popInstanceLink(info);
  if (!link) return VK_ERROR_INITIALIZATION_FAILED;
  nextInstanceProcAddr = link->pfnNextGetInstanceProcAddr;
  VkResult r = ((PFN_vkCreateInstance)nextInstanceProcAddr(VK_NULL_HANDLE, "vkCreateInstance"))(info, alloc, out);
  if (r == VK_SUCCESS) theInstance = *out;
  // Looked up now: asked later, the loader answers with the top of the chain (this layer again).
  if (r == VK_SUCCESS) {
    nextEnumerate = (PFN_vkEnumerateDeviceExtensionProperties)nextInstanceProcAddr(*out, "vkEnumerateDeviceExtensionProperties");
    nextFeatures2 = (PFN_vkGetPhysicalDeviceFeatures2)nextInstanceProcAddr(*out, "vkGetPhysicalDeviceFeatures2");
  }
  return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL fakeEnumerateDeviceExtensionProperties(VkPhysicalDevice gpu, const char *layer, uint32_t *count, VkExtensionProperties *list) {
  PFN_vkEnumerateDeviceExtensionProperties next = nextEnumerate;
  if (layer) return next(gpu, layer, count, list);
  uint32_t real = 0;
  VkResult r = next(gpu, NULL, &real, NULL);
  if (r != VK_SUCCESS) return r;
  if (!list) { *count = real + 1; return VK_SUCCESS; }
  if (*count < real + 1) return VK_INCOMPLETE;
  r = next(gpu, NULL, &real, list);
  snprintf(list[real].extensionName, sizeof list[real].extensionName, "%s", EXT);
  list[real].specVersion = 1;
  *count = real + 1;
  return r;
}

static VKAPI_ATTR void VKAPI_CALL fakeGetPhysicalDeviceFeatures2(VkPhysicalDevice gpu, VkPhysicalDeviceFeatures2 *features) {
  nextFeatures2(gpu, features);
  for (VkBaseOutStructure *s = (VkBaseOutStructure *)features->pNext; s; s = s->pNext)
    if (s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR) ((VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR *)s)->pipelineExecutableInfo = VK_TRUE;
}

static VKAPI_ATTR VkResult VKAPI_CALL fakeCreateDevice(VkPhysicalDevice gpu, const VkDeviceCreateInfo *info, const VkAllocationCallbacks *alloc, VkDevice *out) {
  VkLayerDeviceLink *link = popDeviceLink(info);
  if (!link) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = link->pfnNextGetInstanceProcAddr;
  nextDeviceProcAddr = link->pfnNextGetDeviceProcAddr;
  // Take the extension and the feature out again: the real driver has neither.
  VkDeviceCreateInfo changed = *info;
  const char **names = calloc(info->enabledExtensionCount + 1, sizeof *names);
  uint32_t kept = 0, asked = 0, chained = 0;
  for (uint32_t i = 0; i < info->enabledExtensionCount; i++) {
    if (strcmp(info->ppEnabledExtensionNames[i], EXT)) names[kept++] = info->ppEnabledExtensionNames[i];
    else asked = 1;
  }
  changed.enabledExtensionCount = kept;
  changed.ppEnabledExtensionNames = names;
  VkBaseOutStructure *prev = NULL;
  for (VkBaseOutStructure *s = (VkBaseOutStructure *)info->pNext; s; prev = s, s = s->pNext) {
    if (s->sType != VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR) continue;
    chained = ((VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR *)s)->pipelineExecutableInfo;
    if (prev) prev->pNext = s->pNext; else changed.pNext = s->pNext;
  }
  fprintf(stderr, "fake-driver: vkCreateDevice asked for the extension: %s, the feature: %s\n", asked ? "yes" : "no", chained ? "yes" : "no");
  VkResult r = ((PFN_vkCreateDevice)gipa(theInstance, "vkCreateDevice"))(gpu, &changed, alloc, out);
  free(names);
  return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL fakeCreateComputePipelines(VkDevice device, VkPipelineCache cache, uint32_t count, const VkComputePipelineCreateInfo *infos, const VkAllocationCallbacks *alloc, VkPipeline *out) {
  VkComputePipelineCreateInfo *changed = calloc(count, sizeof *changed);
  memcpy(changed, infos, count * sizeof *changed);
  VkPipelineCreateFlags capture = VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR | VK_PIPELINE_CREATE_CAPTURE_INTERNAL_REPRESENTATIONS_BIT_KHR;
  for (uint32_t i = 0; i < count; i++) {
    if (!(changed[i].flags & VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR)) fprintf(stderr, "fake-driver: a pipeline without the capture flag\n");
    changed[i].flags &= ~capture;
  }
  VkResult r = ((PFN_vkCreateComputePipelines)nextDeviceProcAddr(device, "vkCreateComputePipelines"))(device, cache, count, changed, alloc, out);
  free(changed);
  return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL fakeProperties(VkDevice device, const VkPipelineInfoKHR *info, uint32_t *count, VkPipelineExecutablePropertiesKHR *props) {
  (void)device; (void)info;
  if (!props) { *count = 1; return VK_SUCCESS; }
  if (*count < 1) return VK_INCOMPLETE;
  props[0].stages = VK_SHADER_STAGE_COMPUTE_BIT;
  snprintf(props[0].name, sizeof props[0].name, "Compute Shader");
  snprintf(props[0].description, sizeof props[0].description, "fake");
  props[0].subgroupSize = 32;
  *count = 1;
  return VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL fakeStatistics(VkDevice device, const VkPipelineExecutableInfoKHR *info, uint32_t *count, VkPipelineExecutableStatisticKHR *stats) {
  (void)device; (void)info;
  if (!stats) { *count = 2; return VK_SUCCESS; }
  uint32_t n = *count < 2 ? *count : 2;
  if (n > 0) { snprintf(stats[0].name, sizeof stats[0].name, "Register Count"); stats[0].format = VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR; stats[0].value.u64 = 40; }
  if (n > 1) { snprintf(stats[1].name, sizeof stats[1].name, "Spills"); stats[1].format = VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR; stats[1].value.b32 = VK_FALSE; }
  *count = n;
  return n < 2 ? VK_INCOMPLETE : VK_SUCCESS;
}

static VKAPI_ATTR VkResult VKAPI_CALL fakeRepresentations(VkDevice device, const VkPipelineExecutableInfoKHR *info, uint32_t *count, VkPipelineExecutableInternalRepresentationKHR *reps) {
  (void)device; (void)info;
  static const char text[] = "FFMA R0, R1, R2, R0 ;\n";
  if (!reps) { *count = 1; return VK_SUCCESS; }
  if (*count < 1) return VK_INCOMPLETE;
  snprintf(reps[0].name, sizeof reps[0].name, "fake disassembly");
  reps[0].isText = VK_TRUE;
  if (reps[0].pData) {
    if (reps[0].dataSize < sizeof text) return VK_INCOMPLETE;
    memcpy(reps[0].pData, text, sizeof text);
  }
  reps[0].dataSize = sizeof text;
  *count = 1;
  return VK_SUCCESS;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL fakeGetDeviceProcAddr(VkDevice device, const char *name) {
  if (!strcmp(name, "vkCreateComputePipelines")) return (PFN_vkVoidFunction)fakeCreateComputePipelines;
  if (!strcmp(name, "vkGetPipelineExecutablePropertiesKHR")) return (PFN_vkVoidFunction)fakeProperties;
  if (!strcmp(name, "vkGetPipelineExecutableStatisticsKHR")) return (PFN_vkVoidFunction)fakeStatistics;
  if (!strcmp(name, "vkGetPipelineExecutableInternalRepresentationsKHR")) return (PFN_vkVoidFunction)fakeRepresentations;
  if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)fakeGetDeviceProcAddr;
  return nextDeviceProcAddr(device, name);
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL fakeGetInstanceProcAddr(VkInstance instance, const char *name) {
  if (!strcmp(name, "vkCreateInstance")) return (PFN_vkVoidFunction)fakeCreateInstance;
  if (!strcmp(name, "vkCreateDevice")) return (PFN_vkVoidFunction)fakeCreateDevice;
  if (!strcmp(name, "vkEnumerateDeviceExtensionProperties")) return (PFN_vkVoidFunction)fakeEnumerateDeviceExtensionProperties;
  if (!strcmp(name, "vkGetPhysicalDeviceFeatures2") || !strcmp(name, "vkGetPhysicalDeviceFeatures2KHR")) return (PFN_vkVoidFunction)fakeGetPhysicalDeviceFeatures2;
  if (!strcmp(name, "vkGetInstanceProcAddr")) return (PFN_vkVoidFunction)fakeGetInstanceProcAddr;
  if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)fakeGetDeviceProcAddr;
  if (!strcmp(name, "vkCreateComputePipelines") || !strncmp(name, "vkGetPipelineExecutable", 23)) return fakeGetDeviceProcAddr(VK_NULL_HANDLE, name);
  return nextInstanceProcAddr ? nextInstanceProcAddr(instance, name) : NULL;
}

LAYER_NEGOTIATE(fakeGetInstanceProcAddr, fakeGetDeviceProcAddr)
