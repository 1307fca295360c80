// What every layer of this folder does to join the loader's chain: take the next layer's entry
// points from the create info's link and advance the link for the layer below, and the exported
// negotiation that hands the loader this layer's two lookups.
#ifndef TESSERA_LAYER_CHAIN_H
#define TESSERA_LAYER_CHAIN_H
#include <vulkan/vk_layer.h>

// The link vkCreateInstance was given for this layer (NULL: called outside a loader chain), popped
// so that the next layer finds its own.
static inline VkLayerInstanceLink *popInstanceLink(const VkInstanceCreateInfo *info) {
  VkLayerInstanceCreateInfo *c = (VkLayerInstanceCreateInfo *)info->pNext;
  while (c && !(c->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && c->function == VK_LAYER_LINK_INFO)) c = (VkLayerInstanceCreateInfo *)c->pNext;
  if (!c) return NULL;
  VkLayerInstanceLink *mine = c->u.pLayerInfo;
  c->u.pLayerInfo = mine->pNext;
  return mine;
}

// The same for vkCreateDevice.
static inline VkLayerDeviceLink *popDeviceLink(const VkDeviceCreateInfo *info) {
  VkLayerDeviceCreateInfo *c = (VkLayerDeviceCreateInfo *)info->pNext;
  while (c && !(c->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && c->function == VK_LAYER_LINK_INFO)) c = (VkLayerDeviceCreateInfo *)c->pNext;
  if (!c) return NULL;
  VkLayerDeviceLink *mine = c->u.pLayerInfo;
  c->u.pLayerInfo = mine->pNext;
  return mine;
}

// The loader's entry into the layer (interface version 2).
#define LAYER_NEGOTIATE(instanceProcAddr, deviceProcAddr)                                                             \
  __attribute__((visibility("default"))) VKAPI_ATTR VkResult VKAPI_CALL vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface *v) { \
    if (v->loaderLayerInterfaceVersion > 2) v->loaderLayerInterfaceVersion = 2;                                          \
    v->pfnGetInstanceProcAddr = instanceProcAddr;                                                                       \
    v->pfnGetDeviceProcAddr = deviceProcAddr;                                                                           \
    v->pfnGetPhysicalDeviceProcAddr = NULL;                                                                             \
    return VK_SUCCESS;                                                                                                  \
  }
#endif
